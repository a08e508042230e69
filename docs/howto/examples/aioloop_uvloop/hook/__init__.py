"""Examples of the how-to guides; a package so that their modules never clash by name."""
