"""What an agent's environment shows: secret values masked, the rule of domain/secrets.py.

Whatever carries an `env` (an attempt's, a follow-up's or a workflow step's agent; an agent
profile's variant) is shown through these types, so no read model can forget the mask.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from paddock.domain.entities import AgentSpec
from paddock.domain.public.model import PublicModel
from paddock.domain.secrets import MASK, mask_env

# An env without a list of names marked secret (an agent profile's variant): the values of
# secret-looking names are masked.
MaskedEnv = Annotated[
    dict[str, str],
    AfterValidator(mask_env),
    Field(description=f"Values of secret-looking names (KEY, TOKEN, ...) show as {MASK}"),
]


class AgentSpecPublic(PublicModel):
    """An agent as clients see it: the values of secret-looking names and of those listed in
    `secret_env` are masked (the sandbox alone gets them)."""

    profile: str
    command: str = Field(description="For the script agent: the shell command")
    env: dict[str, str] = Field(
        description=f"Values of secret-looking names and of `secret_env`'s show as {MASK}"
    )
    secret_env: list[str] = Field(description="Names in env whose values are secret")
    variant: str

    @model_validator(mode="after")
    def _mask(self) -> Self:
        self.env = mask_env(self.env, self.secret_env)
        return self

    @classmethod
    def of(cls, agent: AgentSpec) -> Self:
        return cls.read(agent)
