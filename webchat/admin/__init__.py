"""Running the site: administrators, settings, invitations, password resets, reports, the audit log."""
