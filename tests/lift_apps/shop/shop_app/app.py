"""Shop: async SQLAlchemy, Starlette session cookies, a BaseHTTPMiddleware, a lifespan."""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    FastAPI,
    HTTPException,
    Request,
    Response,
)
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.middleware.sessions import SessionMiddleware

from shop_app.observability import capture_handled

SESSION_SECRET = os.environ.get("SHOP_SESSION_SECRET", "development-only-session-secret")


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    stock: Mapped[int]


class OutOfStock(Exception):
    pass


class Login(BaseModel):
    user_id: int
    password: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(os.environ.get("SHOP_DATABASE_URL", "sqlite+aiosqlite://"))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with app.state.sessionmaker() as session, session.begin():
        if not (await session.execute(select(Product))).first():
            session.add(Product(name="kettle", stock=0))
    yield
    await engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


def signed_in_user(request: Request) -> int:
    user_id = request.session.get("user_id")
    if user_id is None:
        raise HTTPException(status_code=401, detail="Sign in first")
    return int(user_id)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
UserId = Annotated[int, Depends(signed_in_user)]

app = FastAPI(title="Shop", lifespan=lifespan)
app.add_middleware(SessionMiddleware, secret_key=SESSION_SECRET)


@app.middleware("http")
async def server_timing(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


@app.exception_handler(OutOfStock)
async def out_of_stock(request: Request, error: OutOfStock) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=409)


shop = APIRouter(prefix="/shop")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@shop.get("/featured")
async def featured() -> list[str]:
    """Public, and broken: no product is featured yet."""
    raise IndexError("no featured product")


@shop.post("/login")
async def login(request: Request, body: Login) -> dict[str, str]:
    request.session["user_id"] = body.user_id
    return {"status": "signed in"}


@shop.get("/products")
async def products(session: SessionDep) -> list[dict[str, object]]:
    rows = (await session.execute(select(Product))).scalars()
    return [{"id": p.id, "name": p.name, "stock": p.stock} for p in rows]


@shop.post("/products/{product_id}/buy")
async def buy(product_id: int, user_id: UserId, session: SessionDep) -> dict[str, str]:
    product = await session.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="No such product")
    if product.stock < 1:
        raise OutOfStock(f"{product.name} is sold out")
    return {"status": "bought"}


class Checkout(BaseModel):
    password: str
    card: str


@shop.post("/checkout")
async def checkout(user_id: UserId, session: SessionDep, body: Checkout) -> None:
    """A bug after a query: the 500 reports it."""
    await session.execute(select(Product))
    raise ZeroDivisionError("cart total divided by zero items")


@shop.post("/restock")
async def restock(user_id: UserId) -> dict[str, str]:
    try:
        raise ConnectionError("warehouse refused the connection")
    except ConnectionError as error:
        capture_handled(error, fingerprint=["warehouse", "refused"], message="Warehouse down")
    return {"status": "later"}


async def load_recommendations() -> list[str]:
    raise ConnectionResetError("recommender closed the connection")


@shop.get("/recommendations")
async def recommendations() -> list[str]:
    """Awaits a task that fails: the task's error is the route's."""
    return await asyncio.create_task(load_recommendations())


async def send_receipt(user_id: int) -> None:
    raise TimeoutError(f"mail server did not answer for user {user_id}")


@shop.post("/receipts", status_code=202)
async def receipts(user_id: UserId, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_receipt, user_id)
    return {"status": "accepted"}


app.include_router(shop)
