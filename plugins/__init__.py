"""Built-in plugins: one package per management stage, registered like external ones."""
