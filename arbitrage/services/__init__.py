"""Every write and every decision of fundarb: views, admin, commands and tasks call these functions."""
