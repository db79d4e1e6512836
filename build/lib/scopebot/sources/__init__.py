"""Knowledge sources: the manifest and one parser per source format."""
