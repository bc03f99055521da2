"""The thin runtime the generated stubs stand on."""
