"""State changes of candidate sites: cloning, template sync, bulk clones, form submissions."""
