"""Operations: health checks, metrics, JSON logs, the configuration check, retention, security
headers, the `flask textline` commands, and each web process's upkeep."""
