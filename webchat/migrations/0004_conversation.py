from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from webchat.migrations import render_stored_bodies

class Migration(migrations.Migration):
    dependencies = [('models', '0003_message_html')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='reply_to',
            field=fields.ForeignKeyField('models.Message', source_field='reply_to_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Message',
            name='reply_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Message',
            name='reactions',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='revision',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.CreateModel(
            name='Reaction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='reaction_rows', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='reactions', on_delete=OnDelete.CASCADE)),
                ('emoji', fields.CharField(max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reactions', 'app': 'models', 'unique_together': (('message', 'user', 'emoji'),), 'pk_attr': 'id', 'table_description': "One person's reaction to a message with one emoji."},
            bases=['Model'],
        ),
        ops.RunPython(render_stored_bodies, ops.RunPython.noop),
    ]
