"""The WS-Scan schema (XSD, WSDL) and the generator's tables, shipped as package data.

``importlib.resources.files("wsdscan.schema")`` finds it in an installed package and in a
source checkout alike; ``wsdscan-codegen export-schema DIR`` copies it out for a project
to keep and extend.
"""
