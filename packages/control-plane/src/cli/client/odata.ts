// OData filter literals: a quote inside a value is doubled, so a name cannot end the string.
export function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
