import schemaJson from '../../../schemas/embedtune.schema.json';
import type { JsonSchema } from './jsonSchema';
import { SchemaNavigator } from './schemaNavigator';

/** The config schema shipped in `schemas/`, bundled into each process so that no front end reads it from disk. */
export const embedtuneSchema = schemaJson as unknown as JsonSchema;

export const embedtuneSchemaNavigator = new SchemaNavigator(embedtuneSchema);
