// `--profile NAME`, on the program so that every command takes it, before or after its own
// arguments; defineAction hands it to the profile store as TETHER_PROFILE.
import { Option } from 'commander';

export function profileOption(): Option {
  return new Option(
    '--profile <name>',
    "the saved sign-in to use; default TETHER_PROFILE, else the one 'tether account use' chose, else 'default'",
  );
}
