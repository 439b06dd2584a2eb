"""One contract per service: its events, request and response schemas, errors and vocabulary. Data only: the
gateway and the other services read it, so services never import each other."""
