use super::{build, edge, sym};
use crate::{EdgeKind::*, Resolution::*, ResolveMode, SymbolKind};

const JAVA: &[(&str, &str)] = &[
    (
        "src/main/java/com/acme/util/Strings.java",
        "package com.acme.util;\n\npublic class Strings {\n    /** Trims. */\n    public static String trim(String s) { return s.trim(); }\n}\n",
    ),
    ("src/main/java/com/acme/app/Repo.java", "package com.acme.app;\n\npublic interface Repo { void save(); }\n"),
    ("src/main/java/com/acme/app/BaseService.java", "package com.acme.app;\n\npublic abstract class BaseService { protected void log() {} }\n"),
    (
        "src/main/java/com/acme/app/UserService.java",
        r#"package com.acme.app;

import com.acme.util.Strings;

/** Users. */
public class UserService extends BaseService implements Repo {
    public void save() {
        this.validate();
        log();
        Strings.trim("x");
    }

    private void validate() {}
}
"#,
    ),
];

#[test]
fn java_symbols_and_edges() {
    let g = build(JAVA, ResolveMode::Scoped);
    let class = sym(&g, "com.acme.app.UserService");
    assert_eq!((class.kind, class.start_line, class.end_line), (SymbolKind::Class, 6, 14));
    assert_eq!(class.doc.as_deref(), Some("Users."));
    assert_eq!(sym(&g, "com.acme.util.Strings.trim").doc.as_deref(), Some("Trims."));
    assert_eq!(sym(&g, "com.acme.app.Repo").kind, SymbolKind::Interface);
    let save = "com.acme.app.UserService.save";
    assert_eq!(sym(&g, save).kind, SymbolKind::Method);
    assert_eq!(edge(&g, "com.acme.app.UserService", "com.acme.app.BaseService", Inherits), Some(Qualified));
    assert_eq!(edge(&g, "com.acme.app.UserService", "com.acme.app.Repo", Implements), Some(Qualified));
    assert_eq!(edge(&g, save, "com.acme.app.UserService.validate", Calls), Some(Local));
    assert_eq!(edge(&g, save, "com.acme.app.BaseService.log", Calls), Some(Local), "inherited, no `this`");
    assert_eq!(edge(&g, save, "com.acme.util.Strings.trim", Calls), Some(Import));
}

const CSHARP: &[(&str, &str)] = &[
    (
        "Models/User.cs",
        r#"namespace Acme.Models
{
    public interface IEntity { int Id(); }
    public class EntityBase { protected void Touch() {} }

    /// <summary>A user.</summary>
    public class User : EntityBase, IEntity
    {
        public int Id() { Touch(); return 1; }
    }
}
"#,
    ),
    (
        "Services/UserService.cs",
        r#"using Acme.Models;

namespace Acme.Services;

public class UserService
{
    public void Run()
    {
        var u = new User();
        this.Helper();
        Audit.Log();
    }

    private void Helper() {}
}
"#,
    ),
    ("Services/Audit.cs", "namespace Acme.Services\n{\n    public static class Audit { public static void Log() {} }\n}\n"),
];

#[test]
fn csharp_symbols_and_edges() {
    let g = build(CSHARP, ResolveMode::Scoped);
    let user = sym(&g, "Acme.Models.User");
    assert_eq!((user.kind, user.start_line, user.end_line), (SymbolKind::Class, 7, 10));
    assert_eq!(user.doc.as_deref(), Some("<summary>A user.</summary>"));
    assert_eq!(sym(&g, "Acme.Services.UserService.Run").kind, SymbolKind::Method);
    assert_eq!(edge(&g, "Acme.Models.User", "Acme.Models.EntityBase", Inherits), Some(Local));
    assert_eq!(edge(&g, "Acme.Models.User", "Acme.Models.IEntity", Implements), Some(Local));
    assert_eq!(edge(&g, "Acme.Models.User.Id", "Acme.Models.EntityBase.Touch", Calls), Some(Local));
    let run = "Acme.Services.UserService.Run";
    assert_eq!(edge(&g, run, "Acme.Models.User", Calls), Some(Import), "new User() through `using`");
    assert_eq!(edge(&g, run, "Acme.Services.UserService.Helper", Calls), Some(Local));
    assert_eq!(edge(&g, run, "Acme.Services.Audit.Log", Calls), Some(Qualified), "same namespace, other file");
}
