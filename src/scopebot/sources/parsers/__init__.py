"""Built-in parsers; importing this package registers them."""
