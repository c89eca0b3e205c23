"""Generated from machines.lifecycle by `python -m machines.table`. Do not edit."""

TRANSITIONS: dict[str, dict[str, str]] = {
    "created": {
        "start_provisioning": "provisioning",
        "destroy": "destroyed",
    },
    "provisioning": {
        "provisioned": "provisioned",
        "provision_failed": "provision_failed",
        "destroy": "destroyed",
    },
    "provisioned": {
        "start_configuring": "configuring",
        "destroy": "destroyed",
    },
    "configuring": {
        "configured": "configured",
        "configure_failed": "configure_failed",
        "destroy": "destroyed",
    },
    "configured": {
        "start_releasing": "releasing",
        "destroy": "destroyed",
    },
    "releasing": {
        "released": "released",
        "release_failed": "release_failed",
        "destroy": "destroyed",
    },
    "released": {
        "start_running": "running",
        "destroy": "destroyed",
    },
    "running": {
        "run_failed": "run_failed",
        "destroy": "destroyed",
    },
    "provision_failed": {
        "destroy": "destroyed",
    },
    "configure_failed": {
        "destroy": "destroyed",
    },
    "release_failed": {
        "destroy": "destroyed",
    },
    "run_failed": {
        "destroy": "destroyed",
    },
    "destroyed": {},
}
