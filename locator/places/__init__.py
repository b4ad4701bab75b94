"""Places: resolve a text to communes, départements or a point; the commune at a point."""
