"""File formats: atomic writes and the challenges' JSON arch lists / submissions."""
