//! The sandbox: a local stand-in for the import endpoint, for tests, demos and rehearsals.
