"""The WS-Scan operations and events as the issue and the spec name them (test data)."""

SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
OPERATIONS = (
    "CreateScanJob",
    "RetrieveImage",
    "CancelJob",
    "ValidateScanTicket",
    "GetScannerElements",
    "GetJobElements",
    "GetActiveJobs",
    "GetJobHistory",
)
EVENTS = (
    "ScanAvailableEvent",
    "JobStatusEvent",
    "JobEndStateEvent",
    "ScannerElementsChangeEvent",
    "ScannerStatusSummaryEvent",
    "ScannerStatusConditionEvent",
    "ScannerStatusConditionClearedEvent",
)
