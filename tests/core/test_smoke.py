import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url_name", ["home", "organisation_list", "contact_list", "calendar_list", "organisation_create", "contact_create"]
)
def test_pages_render_for_process_owner(client_as, url_name):
    client = client_as("process_owner")
    assert client.get(reverse(url_name)).status_code == 200
