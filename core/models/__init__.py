"""The shared model: every plugin may use these; none may change them."""

from core.models.attachment import Attachment
from core.models.audit import AuditHead, AuditLog
from core.models.base import STALE_RECORD, OrgScoped, TimestampMixin, VersionedMixin, utcnow
from core.models.budget import BudgetItem, BudgetType, ItemKind
from core.models.fiscal import FiscalYear, StageDeadline
from core.models.job import JobClaim
from core.models.notification import Notification
from core.models.org import OrgKind, OrgUnit
from core.models.project import Project, ProjectStatus
from core.models.score import ScoreRecord
from core.models.token import ApiToken
from core.models.user import Role, RoleName, RolePermission, User
from core.models.workflow import State, WorkflowEvent, WorkflowMixin

__all__ = [
    "ApiToken", "JobClaim", "ScoreRecord",
    "Attachment", "AuditHead", "AuditLog", "BudgetItem", "BudgetType", "FiscalYear", "ItemKind",
    "Notification", "OrgKind", "OrgScoped", "OrgUnit", "Project", "ProjectStatus", "Role",
    "RoleName", "RolePermission", "StageDeadline", "State", "TimestampMixin", "User", "VersionedMixin", "WorkflowEvent",
    "WorkflowMixin", "utcnow", "STALE_RECORD",
]
