"""Prompt steps (issue 17): every call to an AI provider is recorded on its run (the
rendered prompt and the answer with secrets masked, the model, tokens, latency, cost
and the provider's request id), and a write whose content came from a prompt is
marked AI-drafted (the inbox shows it; the approval gate never relaxes for it while it
is customer-facing)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        # A default in the database too: bulk inserts that name their columns (the
        # history fill, the spooled plans of older code) leave it out.
        migrator.add_column(
            'write', 'ai_drafted', BooleanField(default=False, constraints=[SQL('DEFAULT FALSE')])
        ),
    )

    class PromptCall(Model):
        run_id = IntegerField()
        seq = IntegerField()
        step = IntegerField()
        step_name = CharField(max_length=64, null=True)
        record_number = IntegerField(null=True)
        connection = CharField(max_length=64)
        provider = CharField(max_length=16)
        model = CharField(max_length=128)
        status = CharField(max_length=16)  # answered | placeholder | failed
        system = TextField(default='')
        prompt = TextField(default='')
        answer = TextField(default='')
        tokens_in = IntegerField(default=0)
        tokens_out = IntegerField(default=0)
        latency_ms = DoubleField(default=0.0)
        cost = DoubleField(default=0.0)
        request_id = CharField(max_length=128, null=True)
        error = TextField(null=True)
        attempt = IntegerField(default=1)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = 'prompt_call'
            indexes = ((('run_id', 'seq'), False),)

    db.create_tables([PromptCall])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('prompt_call'))
    migrator.migrate(migrator.drop_column('write', 'ai_drafted'))
