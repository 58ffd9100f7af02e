"""An edition: a region's own portal on the one platform."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Region, User
from core.extensions import db
from core.models import TimestampMixin


class Edition(TimestampMixin, db.Model):
    """A region's portal (江苏版, 临川版): its own name, short name and colour, a home page at /r/<code>/ and, when
    configured, its own host name. It covers every body whose division lies in its region; editions never
    overlap, so each body, proposal and figure belongs to at most one of them."""

    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), unique=True)  # the region's division code
    name: Mapped[str] = mapped_column(sa.String(80))          # 临川市人民建议征集平台
    short_name: Mapped[str] = mapped_column(sa.String(20))    # 临川
    name_en: Mapped[str] = mapped_column(sa.String(160), default="")
    short_name_en: Mapped[str] = mapped_column(sa.String(40), default="")
    colour: Mapped[str] = mapped_column(sa.String(7), default="#1f4e79")  # the header band, #rrggbb
    host: Mapped[str | None] = mapped_column(sa.String(253), unique=True)  # linchuan.example.cn
    logo: Mapped[str] = mapped_column(sa.String(40), default="")  # its file in EDITION_LOGO_DIR (990100.svg)

    region: Mapped[Region] = relationship()

    @property
    def prefix(self) -> str:
        """The division codes this edition covers start with this: 43 for 湖南省 (430000), 4301 for 长沙市."""
        code = self.code
        while code.endswith("00") and len(code) > 2:
            code = code[:-2]
        return code

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name

    def display_short_name(self, locale: str) -> str:
        return self.short_name_en if locale == "en" and self.short_name_en else self.short_name


class EditionOperator(TimestampMixin, db.Model):
    """A person who runs an edition: manages its bodies (creates them, runs their staff) and their campaigns, but
    nothing outside the edition's region. Handling proposals still takes a membership of the body."""

    __tablename__ = "edition_operators"
    __table_args__ = (sa.UniqueConstraint("user_id", "edition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)

    user: Mapped[User] = relationship()
    edition: Mapped[Edition] = relationship()
