"""KPI pages, by area: the dashboard, a KPI's detail and the records behind a value
(``dashboard``); each area declares its own ``urlpatterns``."""
