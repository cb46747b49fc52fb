"""Django's PostgreSQL backend with answer deadlines (see ``base``)."""
