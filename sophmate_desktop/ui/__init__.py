"""Qt only: the main window, pages, table models, dialogs, tray (talks to the console)."""
