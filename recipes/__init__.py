"""Copy-paste training recipes: ``python -m recipes list`` shows them."""
