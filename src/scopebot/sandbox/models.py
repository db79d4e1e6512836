"""Data models of the sandbox: the limits of a run and what a run returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LimitName = Literal["timeout", "cpu", "memory", "processes", "output", "file_size", "disk"]


class SandboxLimits(BaseModel):
    """Resource limits applied to every run (one child process per run)."""

    timeout_s: float = Field(default=30.0, gt=0, description="Wall-clock seconds before the run is killed.")
    cpu_s: int | None = Field(default=None, ge=1,
                              description="CPU seconds (RLIMIT_CPU); default: the timeout rounded up.")
    memory_mb: int = Field(default=2048, ge=64,
                           description="Address space the run may add on top of its starting interpreter "
                                       "(RLIMIT_AS), in MiB.")
    max_processes: int = Field(default=64, ge=1,
                               description="RLIMIT_NPROC for the unprivileged sandbox user (threads count).")
    max_file_mb: int = Field(default=64, ge=1, description="Largest file the run may write (RLIMIT_FSIZE), MiB.")
    max_output_chars: int = Field(default=20_000, ge=100,
                                  description="Captured stdout/stderr kept per stream; the rest is cut "
                                              "with a marker.")
    max_output_factor: int = Field(default=50, ge=2,
                                   description="The run is stopped once it has printed this many times "
                                               "max_output_chars.")
    disk_mb: int = Field(default=512, ge=1,
                         description="Total disk space of a run's working folder (a sized tmpfs, inputs not "
                                     "counted), MiB.")
    max_copied_files: int = Field(default=50, ge=0, description="Most written files copied out of a run.")
    max_copied_mb: int = Field(default=100, ge=1, description="Most MiB of written files copied out.")

    @property
    def effective_cpu_s(self) -> int:
        return self.cpu_s or max(1, int(self.timeout_s + 0.999))


class RunResult(BaseModel):
    """Everything a sandbox run produced. ``ok`` is True when the code ran to the end."""

    ok: bool
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    error: str | None = Field(default=None, description="Exception type and message, e.g. "
                                                        "'ZeroDivisionError: division by zero'.")
    traceback: str | None = Field(default=None, description="Short traceback of the user's code only.")
    figures: list[str] = Field(default_factory=list, description="PNG files of the matplotlib figures.")
    files: list[str] = Field(default_factory=list, description="Files the code wrote, copied out.")
    duration_s: float = 0.0
    limit_hit: LimitName | None = None
    violation: str | None = Field(default=None,
                                  description="What the guard refused (e.g. 'network access (socket.connect)').")
    isolation: list[str] = Field(default_factory=list,
                                 description="Layers the run actually had, e.g. ['userns', 'pidns:per-run', "
                                             "'netns:per-run', 'landlock:abi7', 'seccomp', 'uid:65534'].")
    warm: bool = Field(default=False, description="Whether a pre-warmed worker ran the code.")
    exit_code: int | None = None
    signal: int | None = None

    def summary(self) -> str:
        """One line for humans: what happened."""
        if self.ok:
            return f"ran in {self.duration_s:.2f}s"
        parts = [self.error or "failed"]
        if self.limit_hit:
            parts.append(f"limit hit: {self.limit_hit}")
        return "; ".join(parts)
