"""Process-wide machinery beneath the library: the hooks a compile recording listens
to, atomic file writes, and where figures and progress bars are shown."""
