"""Discord as a full client of the command table: slash commands rendered from it, one
transport-independent interaction handler (gateway and HTTP), decision buttons and modals."""
