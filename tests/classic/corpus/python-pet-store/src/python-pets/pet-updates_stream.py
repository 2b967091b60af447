from pydantic import BaseModel


class PetUpdate(BaseModel):
    petId: str
    status: str


config = {
    "name": "petUpdates",
    "schema": PetUpdate.model_json_schema(),
    "baseConfig": {"storageType": "default"},
}
