from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_time')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('uploader', fields.ForeignKeyField('models.User', source_field='uploader_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('room', fields.ForeignKeyField('models.Room', source_field='room_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, max_length=128)),
                ('name', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('thumb_key', fields.CharField(null=True, max_length=128)),
                ('thumb_width', fields.IntField(null=True)),
                ('thumb_height', fields.IntField(null=True)),
                ('alt', fields.TextField(default='', unique=False)),
                ('decorative', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachments', 'app': 'models', 'indexes': [Index(fields=['uploader_id', 'size'])], 'pk_attr': 'id', 'table_description': 'A file sent with a message.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Message',
            name='files',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
