"""The drag-and-drop network editor: a plain graph model, undo commands over it,
and the Qt scene, view, palette and property panel that draw and edit it."""
