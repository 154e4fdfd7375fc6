"""The runbooks, one module each; the registry scans only this folder."""
