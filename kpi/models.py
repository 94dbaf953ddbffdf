"""KPIs and reporting (KPI 与报告): the domain records of this app are added by its own issue."""
