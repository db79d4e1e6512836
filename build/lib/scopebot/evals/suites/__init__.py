"""One module per eval suite."""
