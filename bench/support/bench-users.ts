/** Extra people with real passwords for the login bench: `bench.eleve0001`, … (all with FIXTURE_PASSWORD). */
export function benchLogin(i: number): string {
  return `bench.eleve${String(i + 1).padStart(4, '0')}`;
}
