"""The lock service: holds, sales, operator tools and live seat updates."""
