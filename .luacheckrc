-- luacheck configuration: `luacheck .` from the project root.
std = "lua54"
max_line_length = 100
exclude_files = { "build/", "luarocks-tree/", ".git/" }

files["spec/"] = { std = "+busted" }
files[".busted"] = { std = "lua54" }
files[".luacheckrc"] = { globals = { "std", "max_line_length", "exclude_files", "files" } }
files["rockspec/"] = {
  globals = { "rockspec_format", "package", "version", "source", "description",
              "dependencies", "test_dependencies", "test", "build" },
}
