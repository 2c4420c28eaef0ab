"""The dock panels, the toolbar, the status bar and the File-menu actions."""
