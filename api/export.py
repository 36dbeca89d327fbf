"""(being built for CONTRACT §7)"""

from fastapi import APIRouter

router = APIRouter(tags=["export"])
