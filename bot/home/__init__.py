"""The App Home tab: what needs the person opening it, what is open, who is on call, the health verdict."""
