"""One module per kind of service: teams, beds (and care packages), hubs, acute."""

from sim.services.base import Service
from sim.services.beds import Acute, Beds, CarePackages
from sim.services.hub import Hub
from sim.services.team import Team

#: The class that runs each ``kind`` of service in a pathway file.
SERVICE_CLASSES: dict[str, type[Service]] = {
    "team": Team,
    "beds": Beds,
    "care_package": CarePackages,
    "hub": Hub,
    "acute": Acute,
}

__all__ = ["SERVICE_CLASSES", "Acute", "Beds", "CarePackages", "Hub", "Service", "Team"]
