"""What members accepts over RPC: the public request bodies, defined once in shared/contract.py
(the gateway validates and documents the same ones)."""
from shared.contract import (ErasureRequest, MemberCreate, MemberQuery, MemberUpdate, MeUpdate, OrganizationCreate,
                             OrganizationUpdate, PositionChange, RecordCreate, TransferRequest)

__all__ = ["ErasureRequest", "MemberCreate", "MemberQuery", "MemberUpdate", "MeUpdate", "OrganizationCreate",
           "OrganizationUpdate", "PositionChange", "RecordCreate", "TransferRequest"]
