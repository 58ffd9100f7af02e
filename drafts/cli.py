"""``flask drafts ...`` commands."""
from pathlib import Path

import click
from flask.cli import AppGroup

from campaigns.models import Campaign
from core.cli import domain_errors_as_click_errors
from core.extensions import db
from drafts import parsing, services

cli = AppGroup("drafts", help="Drafts put out for comment, article by article.")


@cli.command("import")
@click.argument("campaign_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="What this version is, e.g. 修改稿.")
@click.option("--title", default="", help="The draft's title (a first import only; else the file's own).")
@click.option("--link-comments", is_flag=True,
              help="Then tie the campaign's proposals not yet tied to the draft to the article they name.")
def import_command(campaign_id: int, path: Path, note: str, title: str, link_comments: bool) -> None:
    """Import PATH (.docx, Markdown or text) as the draft of CAMPAIGN_ID, or as its next version."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign {campaign_id}")
    try:
        parsed = parsing.parse_file(path.name, path.read_bytes())
    except parsing.DraftUnreadable as error:
        raise click.ClickException(f"{path}: {error}") from None
    with domain_errors_as_click_errors():
        draft = services.draft_of(campaign)
        if draft is None:
            draft = services.create_draft(None, campaign, parsed, source_name=path.name, note=note, title=title)
        else:
            services.import_version(None, draft, parsed, source_name=path.name, note=note)
        tied = services.link_comments_by_mention(draft) if link_comments else 0
    db.session.commit()
    click.echo(f"Draft {draft.id}, version {draft.current_version.number}: {len(parsed.articles)} articles"
               + (f"; {tied} comments tied to their articles" if link_comments else ""))
