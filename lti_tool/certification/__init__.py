"""The certification back-office: jury sessions, minutes, credentials and the accrochage file."""
