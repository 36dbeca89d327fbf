"""Everything that is neither UI nor HTTP. Nothing here imports NiceGUI."""
