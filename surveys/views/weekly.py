"""Weekly visit report pages (being built)."""

urlpatterns: list = []
