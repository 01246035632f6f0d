from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_language')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['reply_to_id', 'id']),
        ),
    ]
