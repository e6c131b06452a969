"""Show how PostgreSQL runs one FHIR search of the repository: the page statement the server would send
(search_repository.page_select, as a group-wide reader), with EXPLAIN (ANALYZE, BUFFERS).

    python scripts/explain_fhir_search.py postgresql://postgres@127.0.0.1:5432/DB \\
        'Observation?subject:Patient.name=Li&code=9279-1'

Useful on a database kept by `zhiyi bench fhir --keep` (its name is printed at the end of the run).
`--sql` prints the statement only. The query runs (EXPLAIN ANALYZE), so point it at a copy you may load.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import parse_qsl

import psycopg
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import db
from zhiyi.core.config import Settings
from zhiyi.fhir import search_query, search_repository


async def statement(url: str, search: str) -> str:
    """The page statement, its chains measured on the database at `url` as the server would."""
    rtype, _, raw = search.partition("?")
    query = search_query.parse(rtype, parse_qsl(raw, keep_blank_values=True))
    engine = db.make_engine(Settings(database_url=url))
    try:
        async with AsyncSession(engine) as session:
            where = await search_repository.where_of(session, query, reach=None)
            select, _ = search_repository.page_select(query, where, cursor=None)
    finally:
        await engine.dispose()
    return str(select.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--sql"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    url, search = args
    sql = asyncio.run(statement(url, search))
    if "--sql" in argv:
        print(sql)
        return 0
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for (line,) in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}".replace("%%", "%")):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
