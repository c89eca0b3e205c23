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
        "start_releasing": "releasing",
        "start_running": "running",
        "destroy": "destroyed",
    },
    "running": {
        "start_releasing": "releasing",
        "run_failed": "run_failed",
        "destroy": "destroyed",
    },
    "provision_failed": {
        "start_provisioning": "provisioning",
        "destroy": "destroyed",
    },
    "configure_failed": {
        "start_configuring": "configuring",
        "destroy": "destroyed",
    },
    "release_failed": {
        "start_releasing": "releasing",
        "destroy": "destroyed",
    },
    "run_failed": {
        "start_releasing": "releasing",
        "start_running": "running",
        "destroy": "destroyed",
    },
    "destroyed": {},
}
