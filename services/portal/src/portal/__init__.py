"""The web portal: server-rendered pages for members, clients and staff (port 8000)."""
